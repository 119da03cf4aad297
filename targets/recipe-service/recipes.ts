// The recipe service's documents: deterministic for their id and size, so what one protocol
// answers can be compared field by field with what the other answers.
import type { Options } from '@grpc/proto-loader';

/** The service's gRPC definition (package faultline.recipes.v1, service Recipes). */
export const recipeProto = new URL('./recipe.proto', import.meta.url);

/** How server and clients load the .proto files: fields in lowerCamelCase as in JSON, enums by name, every field present. */
export const protoOptions: Options = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true };

/** One ingredient of a recipe. */
export interface Ingredient {
  name: string;
  grams: number;
}

/** A recipe document, as JSON/HTTP writes it and as recipe.proto's `Recipe` carries it. */
export interface Recipe {
  id: number;
  title: string;
  cuisine: string;
  servings: number;
  minutes: number;
  ingredients: Ingredient[];
  steps: string[];
  /** Padding up to the asked size; empty when none. */
  notes: string;
}

/** The largest document, in bytes of JSON, a call may ask for (1 MiB: well under gRPC's 4 MB message limit). */
export const MAX_SIZE = 1024 * 1024;
/** The most items one ListRecipes call may ask for. */
export const MAX_COUNT = 10_000;
/** The longest Work, and the longest pause between streamed items (ms). */
export const MAX_MS = 60_000;
/** The largest recipe id. */
export const MAX_ID = 999_999_999;

const CUISINES = ['italian', 'japanese', 'mexican', 'indian', 'french', 'thai'];
const PANTRY = ['flour', 'egg', 'butter', 'garlic', 'onion', 'tomato', 'rice', 'basil', 'chili', 'lime', 'ginger', 'cream'];

/**
 * The recipe with this id, its `notes` padded with `x` so that its JSON text is exactly `size`
 * bytes (or the bare document, when that is already longer).
 */
export function recipe(id: number, size = 0): Recipe {
  const item = (n: number) => PANTRY[(id * 7 + n * 3) % PANTRY.length]!;
  const doc: Recipe = {
    id,
    title: `Recipe ${id}`,
    cuisine: CUISINES[id % CUISINES.length]!,
    servings: 1 + (id % 6),
    minutes: 10 + ((id * 13) % 80),
    ingredients: Array.from({ length: 4 + (id % 5) }, (_, n) => ({ name: item(n), grams: 25 * (1 + ((id + n) % 8)) })),
    steps: Array.from({ length: 3 + (id % 4) }, (_, n) => `Step ${n + 1}: combine ${item(n)} and ${item(n + 1)}.`),
    notes: '',
  };
  // Every character is ASCII, so the text's length is its size in bytes.
  const missing = size - JSON.stringify(doc).length;
  if (missing > 0) doc.notes = 'x'.repeat(missing);
  return doc;
}
