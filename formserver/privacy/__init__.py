"""Personal data in complaints, split by what each module reads.

- ``text``: identifiers anyone wrote into free text, replaced by placeholders (〔電話已隱藏〕).
- ``identity``: the resident's own name, unit, phone and email in other spellings.
- ``identifiers``: identity card numbers and their check digits.
- ``masking``: the resident's own details shortened for display.
- ``photos``, ``pdfs``, ``media``: files cleaned of metadata (``exif`` and ``jpeg`` edit the
  structures photos and PDFs share); a file that cannot be cleaned raises ``UncleanableFile``
  (``uncleanable``), and is refused, never sent as it came.

Pure functions only; the form server decides when to call them.
"""
