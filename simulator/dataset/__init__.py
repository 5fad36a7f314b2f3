"""The dataset on disk: its layout and manifest, the encodings of the pass images."""
