"""Pure domain rules (deadlines, calendars, identifiers, …): no Flask, no database, fully unit-tested."""
