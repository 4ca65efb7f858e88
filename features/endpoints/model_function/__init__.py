"""The custom resource Lambda behind SageMakerApiModel (handler `handler.handler`)."""
