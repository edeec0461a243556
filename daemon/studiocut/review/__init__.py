"""review: the review page: its HTTP server, the actions a person takes, the artefacts kept
for each result, refinement, and the static page in web/.
"""
