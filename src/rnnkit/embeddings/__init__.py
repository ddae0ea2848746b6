"""rnnkit.embeddings"""
