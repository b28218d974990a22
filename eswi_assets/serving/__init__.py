"""The serving app: the latest PPO model (A/B against a baseline) over HTTP and LINE, batched
generation, and ratings written to the same feedback store the pipeline trains on."""
