"""What the assistant, the gateway and the jobs share about the clinic: its settings, office
hours, signed statement links and patient wording. Imports nothing of bot/ or actions/."""
