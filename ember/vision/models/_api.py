"""The ``weights=`` argument of torchvision's model builders: ember ships no weights and downloads nothing."""


def check_weights(name, weights, progress=True):
    if weights is None or weights is False:
        return
    raise RuntimeError(
        f"{name}(weights={weights!r}): ember downloads no pretrained weights. Build the model with weights=None and "
        f"load a torchvision checkpoint you have on disk: model.load_state_dict(ember.load('{name}.pth')); the "
        f"module names and state_dict keys are torchvision's, so the file loads as is.")
