"""Meeting minutes without a model, and the checks run on minutes a model wrote.

  transcripts   .vtt, .docx and text transcripts into speaker-attributed utterances
  units         the sentences of the utterances, with speech fillers removed
  dates         dates and deadlines said in a meeting, resolved against the meeting date
  summary       the extractive summariser (MMR over content words, newsletter-style compression)
  extract       the minutes: attendees, agenda, summary, decisions, ToDos, next meeting, pending; their Markdown
                sections; minutes_facts_check, the check of minutes a model wrote
"""
