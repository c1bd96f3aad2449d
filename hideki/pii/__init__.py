"""Personal information: local detection (`detect`) and the masking client that stands between a pipeline
and the model (`masking`): placeholders out, originals back in, or no call at all in block mode.
"""
