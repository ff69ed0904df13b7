"""Personal data of customers in an append-only, hash-chained store (issue 16).

Crypto-shredding: personal fields are sealed with a data key per data subject before they
enter an event, so the hash chain covers only ciphertext; erasure destroys the key, after
which every read shows the erased marker while the events and their chain stay as they were.

    subjects   the pseudonymous subject id (keyed HMAC of maker + normalised phone)
    crypto     pure AES-256-GCM sealing of fields into a JSON-safe envelope
    keys       the key table (the only place keys exist), cache, erasure
    vault      seal/open/erase against the key table: what services and projections call
    masking    masked renderings and the one decision who sees full values
    access     the log of reads of full personal data
    retention  which subjects a maker's retention policy erases
    export     the copy of everything held about one subject
    legacy     detection of stores written before encryption, the start-up refusal
"""
