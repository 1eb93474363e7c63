"""The xAPI 1.0.3 Learning Record Store at /xapi/ (docs/lrs.md): validation, the one statement store,
documents (State, Activity Profile, Agent Profile), attachments, signed statements, Basic-auth clients."""
