"""Japanese text tools, one job per module:

  sudachi     the Sudachi tokenizer (shared, thread-safe) and safe pieces of long text
  sentences   sentence and paragraph splitting
  kana        kana conversion and character classes
  numbers     the one number parser (ASCII, full-width, kanji numerals)
  patterns    the regular expressions for dates, times, amounts and phone numbers (named variants side by side)
  eras        era dates to the Western calendar, weekdays, every date mention in a text
  facts       the facts a rewrite must keep (numbers, dates, amounts, names …) and which ones it lost
  readings    the readings (furigana) engine
  furigana    text rendered with readings (inline or <ruby>), by school grade
  simplify    rule-based やさしい日本語 rewriting
"""
