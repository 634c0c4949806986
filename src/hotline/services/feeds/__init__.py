"""Track feeds in: sources the node connects to or listens on, their health and alarms."""
