"""rnnkit.training"""
