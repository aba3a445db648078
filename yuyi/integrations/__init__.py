"""Adapters that let other frameworks use a yuyi `Collection`: `yuyi.integrations.langchain`
(a LangChain `VectorStore`; `.as_retriever()` gives its retriever) and
`yuyi.integrations.llama_index` (a LlamaIndex vector store, retriever and embedding model).
Each imports its framework only when used (`pip install 'yuyi[integrations]'`)."""
