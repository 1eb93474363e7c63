"""Certificate verification as one pipeline of small pure steps, shared by the service (online, its
own database) and a verifier with no network (offline.py, downloaded documents):

    decode → find the key → check the signature → check the claims → find the record →
    check the status → verdict

`decode` and `check the signature` belong to the credential's format (formats.py: the VC-JWT and the
compact QR form); the other steps are the same for every format (pipeline.py). What a step needs from
the world comes through a `Sources` (model.py); the words of each verdict are in reasons.py."""
