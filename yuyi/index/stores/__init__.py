"""Where chunks live: one `Store` interface (base), the embedded store (local_*), Milvus
(milvus*), collection aliases for migration, and the filter language every store compiles."""
