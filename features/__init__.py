"""The CDK side, a folder per feature: its constructs and the runtime code they ship."""
