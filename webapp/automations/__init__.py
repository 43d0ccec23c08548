"""Automations: a trigger enrols contacts into a flow of steps that the engine runs exactly once each."""
