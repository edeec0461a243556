"""models: the model registry, ONNX Runtime sessions and providers, the saliency models,
Segment Anything, the backdrop key, and model downloads.
"""
