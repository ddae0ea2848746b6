"""rnnkit.data"""
