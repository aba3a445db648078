"""What goes in: folders of files, records and documents (readers), queries and judgments."""
