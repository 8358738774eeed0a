"""QR Pro (issue 13): the caisse's instruction of AT/MP cases and the parties' questionnaires."""
