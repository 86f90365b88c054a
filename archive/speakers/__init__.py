"""Who said what: diarization, attribution of voices to people, and voice prints across meetings."""
