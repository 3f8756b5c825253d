"""Admission without a vote per person: vouching, and invitations that credit people before they join."""
