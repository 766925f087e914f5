# CLIP's pixel statistics on the 0-255 scale; frames stay RGB (decord).
data_preprocessor = dict(
    type='ActionDataPreprocessor',
    mean=[122.770938, 116.7460125, 104.09373615],
    std=[68.5005327, 66.6321579, 70.32316305],
    format_shape='NCHW')
