"""Bounce and complaint mail: the signed VERP Return-Path and the bounce mailbox read over IMAP or POP3."""
