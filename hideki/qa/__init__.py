"""Question/answer pairs from a notice or manual without a model, and the checks run on pairs a model wrote.
"""
