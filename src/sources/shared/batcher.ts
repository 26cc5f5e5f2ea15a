/** The batch size sources yield (items per batch). */
export const BATCH_SIZE = 500;
