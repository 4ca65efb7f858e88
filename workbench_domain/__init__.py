"""The contracts every runtime of the workbench shares (CDK app, Lambdas, notebooks, scripts).

Standard library only (plus botocore where an AWS limit is read), Python 3.9+ syntax.
"""
