"""Office documents in and out: Word notices with real ruby, minutes as Word, Q&A as Excel.

    engine = ReadingEngine(dictionaries)
    report = add_ruby(Document("notice.docx"), engine, grade=None)       # hideki.documents.word_ruby
    write_minutes_docx(minutes, Path("議事録.docx"))                      # hideki.documents.minutes_docx
    write_qa_xlsx(pairs, Path("faq.xlsx"), source_name="notice.txt")     # hideki.documents.qa_xlsx

Every writer goes through hideki.documents.files.write_atomically, so a failure never leaves a broken
output file, and every input goes through hideki.documents.files.check_input, which refuses encrypted,
corrupt, macro-enabled and oversized files with a message in Japanese (DocumentError).
"""
