"""Versioned standard forms of the contract signed with a privileged producer (law Art.
21(6)(e)). A form is never edited once used: a change is a new file with a new version."""
