# CLIP RN50 (OpenAI weights; D = 1024). The visual tower is fine-tuned,
# the text tower frozen. Without internet, set `pretrained` of both to a local
# checkpoint file (state dict, safetensors or OpenAI TorchScript .pt).
_base_ = ['./clip_preprocessor.py']
clip_arch = 'RN50'
clip_pretrained = 'openai'
embed_dims = 1024
model = dict(
    type='FewShotRecognizer',
    backbone=dict(
        type='OpenCLIPVisual', arch=clip_arch, pretrained=clip_pretrained),
    text_encoder=dict(
        type='OpenCLIPText',
        arch=clip_arch,
        pretrained=clip_pretrained,
        template='a photo of {}'),
    data_preprocessor={{_base_.data_preprocessor}})
