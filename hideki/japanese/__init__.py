"""Japanese text tools: Sudachi segmentation, readings, furigana, sentence splitting, simplification."""
