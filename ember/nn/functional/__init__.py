"""ember.nn.functional: the stateless forms of every layer, with torch.nn.functional's names."""
