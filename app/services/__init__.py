"""Use cases. Transactions live here: a service function commits (or rolls back) what it changed."""
