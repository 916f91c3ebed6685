"""The style sheet (a package only so that installs ship it as package data)."""
