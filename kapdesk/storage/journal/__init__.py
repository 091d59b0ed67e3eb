"""The integration journal's storage: its tables (``models``), one module per concern
(``patients``, ``entries``, ``search``, ``questionnaires``, ``staff_pin``), the writer they
share (``writer``), ``JournalStore`` that holds them (``store``) and the readable export
(``export``). Import names from the module that defines them; nothing is re-exported here.
"""
