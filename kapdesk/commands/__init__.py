"""Command-line sub-commands: each module here defines ``register(subparsers)``.

``kapdesk.cli`` discovers the modules, so adding a command is adding a module.
"""
