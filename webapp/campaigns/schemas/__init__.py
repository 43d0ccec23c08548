"""The campaigns feature's inputs (campaign.py, and the wizard's steps in wizard.py) and the JSON
API's output shapes (output.py)."""
