"""rnnkit.models"""
