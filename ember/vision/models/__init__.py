"""ember.vision.models: torchvision's architectures with its module names and state_dict keys."""
