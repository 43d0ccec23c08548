"""The media library: images for emails, uploaded once and served at addresses that never change."""
