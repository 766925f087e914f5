# D2ST-Adapter's ViT (qizhongtan/D2ST-Adapter models/base/adapter.py
# ViT_CLIP; config ADAPTER): OpenAI CLIP ViT-B/16 frozen (ADAPTER.PRETRAINED
# ViT-B/16), a D2ST adapter after every block (ADAPTER_SCALE 0.25), a
# temporal embedding, the class token after ln_post without the projection
# (768-d frames); trained: adapters, temporal and class embeddings, ln_post
# (runs/train_net_few_shot.py L202) and the head's classifier. No text.
# Checkpoints keep the trained parts only (a few MB); loading one reads the
# frozen tower from `pretrained` (offline: a local OpenAI ViT-B-16 file).
_base_ = ['./clip_vit-b16.py']
model = dict(
    text_encoder=None,
    backbone=dict(
        type='OpenCLIPAdapted',
        num_frames=8,  # DATA.NUM_INPUT_FRAMES (the pipelines' 8 segments)
        adapter=dict(type='D2STAdapter', scale=0.25),
        temporal_embedding=True,
        trainable=('class_embedding', 'ln_post'),
        project=False,
        save_trainable_only=True))
