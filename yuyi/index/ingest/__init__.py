"""Writing: documents → chunks → vectors → a store (pipeline), and zero-downtime model
migration (migrate)."""
