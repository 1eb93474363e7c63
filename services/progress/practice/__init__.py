"""Professional learning beyond courses (issue 14, docs/practice.md): coaching, classroom observation,
the evidence portfolio, webinars, communities of practice and the CPD record. The same rooms as a
service, inside the progress service (its tables are in progress's metadata and migrations)."""
