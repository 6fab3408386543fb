"""The language of each conversation and each patient: which language billbot writes in, how
it was chosen (the patient's record, detection, or the patient's own switch), and the one
writer of a patient's stored language (after verification only)."""
