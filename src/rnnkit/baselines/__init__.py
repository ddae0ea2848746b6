"""Non-recurrent baselines that the RNN models must beat."""
