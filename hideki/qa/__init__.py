"""Question/answer pairs from a notice or manual without a model, and the checks run on pairs a model wrote.

  generate     the public API: generate_pairs (selection), check_pairs, parse_requested_count, to_faq_csv
  text         the notice's sentences with offsets, paragraphs and tokens
  candidates   question candidates of one sentence, one function per kind of question
  predicates   the predicate as a polite question (…ますか？, …すればよいですか？) or in plain form
"""
