"""Meeting minutes without a model: transcripts (.vtt, .docx, text) into utterances, the extractive engine,
and the checks run on minutes a model wrote.
"""
