"""Metrics networks: the FID Inception port (fid_inception) and its torch-free weight converter (fid_weights)."""
