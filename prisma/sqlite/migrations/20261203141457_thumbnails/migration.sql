-- AlterTable
ALTER TABLE "files" ADD COLUMN "thumbnail_key" TEXT;
